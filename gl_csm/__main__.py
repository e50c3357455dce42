"""`python -m gl_csm` = the `gl-csm` console script."""

from gl_csm.cli import main

if __name__ == "__main__":
    main()
