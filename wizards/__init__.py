from . import imsklad_stock_compare
