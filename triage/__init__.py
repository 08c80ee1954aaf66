"""triage: kdump vmcore triage toolkit.

Data flows dumps -> memory -> printk -> events -> classify -> report -> cli/batch.
"""

__version__ = "0.1.0"
