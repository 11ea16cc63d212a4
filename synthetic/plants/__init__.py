"""Planted cases, one module per detector, and the organic look-alikes no detector may flag."""
