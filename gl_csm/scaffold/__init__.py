"""The files `gl-csm init` writes into a CS team's new repository (package data: an
installed gl-csm has them). Names without a leading dot (``gitignore``,
``gitlab-ci.yml.j2``) are written with one; ``.j2`` files are rendered first."""
