#!/usr/bin/env python
"""Django's command-line utility for Pitboss."""

import sys


def main() -> None:
    from config.entrypoints import settings_module_set_default

    settings_module_set_default()  # production unless PITBOSS_DEV=1
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
