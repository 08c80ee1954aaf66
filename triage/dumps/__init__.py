"""Dump formats: detect a file's format from its content and open the right reader."""
