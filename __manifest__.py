{
    "name": "Supplier Connector",
    "summary": "Prices, stock, catalogues and orders from ETM iPro, Shate-M, MoySklad, "
    "IMSKLAD and UDOMA",
    "version": "18.0.1.0.0",
    "category": "Inventory/Purchase",
    "license": "LGPL-3",
    "author": "supplier_connector developers",
    "website": "https://github.com/supplier-connector/supplier_connector",
    "depends": ["mail", "product", "stock", "purchase"],
    "external_dependencies": {"python": ["requests"]},
    "data": [
        "security/supplier_connector_security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron.xml",
        "views/supplier_backend_views.xml",
        "views/supplier_product_views.xml",
        "views/supplier_sync_log_views.xml",
        "views/product_views.xml",
        "views/purchase_views.xml",
        "views/menus.xml",
    ],
    "demo": [
        "demo/supplier_demo.xml",
        "demo/etm_demo_products.xml",
        "demo/shate_demo_products.xml",
    ],
}
