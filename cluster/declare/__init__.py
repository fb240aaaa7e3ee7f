"""Declaring resources: the only layer that knows Pulumi resource types.

``program.build`` reads the stack config through Pulumi; ``overlay.Overlay``
turns the plan into ZeroTier resources and remote commands; ``controller``
is the seam between ZeroTier Central and the head's own controller.
"""
