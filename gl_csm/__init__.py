"""gl-csm: GitLab-integrated automation bot for Customer Success Managers."""

__version__ = "0.1.0"
