"""The ``soundry`` command line."""
