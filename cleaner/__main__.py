"""Run the command line as `python -m cleaner`."""

from cleaner.cli import main

if __name__ == "__main__":
    main()
