"""``python -m simulator.lab DIR [Voilà options]``: the lab server (see simulator.lab.app)."""

from simulator.lab.app import main

if __name__ == "__main__":
    main()
