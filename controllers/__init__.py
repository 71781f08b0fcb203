from . import main
from . import product_image
from . import moysklad
