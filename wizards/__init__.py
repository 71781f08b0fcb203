from . import imsklad_stock_compare
from . import imsklad_push_wizard
