"""tplus: a command-line trading tool for the T+ order-management system."""

__version__ = "0.1.0"
