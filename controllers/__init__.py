from . import main
from . import product_image
