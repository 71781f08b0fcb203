from . import test_backend
from . import test_catalogue
from . import test_faults
from . import test_mapping
from . import test_product_actions
from . import test_security
from . import test_shate
from . import test_sync_offers
