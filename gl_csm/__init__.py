"""gl-csm: GitLab-integrated automation bot for Customer Success Managers."""

# The release version (pyproject reads it; CHANGELOG.md and the CI/CD components'
# `package` input default follow it).
__version__ = "0.2.0"
