"""triage: kdump vmcore triage toolkit.

Data flows dumps -> memory -> printk -> events -> classify -> diagnosis -> report
-> cli/batch. Findings (triage.findings) are plain data shared by classify,
diagnosis and the renderers.
"""

__version__ = "0.1.0"
