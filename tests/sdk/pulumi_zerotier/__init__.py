# Stand-in for the generated SDK's __init__.py (see README.md): everything at the top level.
from . import _utilities
import typing
# Export this package's modules as members:
from .get_members import *
from .get_network import *
from .identity import *
from .member import *
from .network import *
from .provider import *
from .token import *
from ._inputs import *
from . import outputs

