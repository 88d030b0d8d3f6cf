"""Runs the real `__main__.py` in-process under Pulumi's mock monitor and records what it registers."""
