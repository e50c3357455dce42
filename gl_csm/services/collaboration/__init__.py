"""Customer collaboration projects: onboard, promote, verify and the desired state of a project."""
