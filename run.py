#!/usr/bin/env python3
"""Command line of the doorbell-camera surveillance simulation: python run.py --help"""

import sys

from sim.ui.cli import main

if __name__ == "__main__":
    sys.exit(main())
