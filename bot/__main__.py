"""`python -m bot` is the `howl` command."""

from bot.cli import main

if __name__ == "__main__":
    main()
