"""``python -m planner`` runs the command-line interface."""

from planner.cli import main

if __name__ == "__main__":
    main()
