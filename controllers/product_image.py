"""The product image links given to IMSKLAD (models/imsklad_goods.py): public, one image per
signed link, nothing else. Anything the model does not recognise is a 404, the same answer for a
wrong signature, an unknown binding, a product without an image or publishing switched off, so
the route tells nothing about what exists."""

from odoo import http
from odoo.http import request


class ImskladProductImageController(http.Controller):
    @http.route(
        "/supplier_connector/imsklad/image/<int:binding_id>/<string:name>",
        type="http", auth="public", methods=["GET"], save_session=False, readonly=True,
    )
    def imsklad_product_image(self, binding_id, name, **_kwargs):
        served = request.env["supplier.imsklad.goods"].sudo()._image_to_serve(binding_id, name)
        if not served:
            raise request.not_found()
        attachment, current = served
        stream = attachment._to_http_stream()
        stream.public = True
        stream.download_name = name
        if not current:
            # A link of an older image: the current image, to be checked again next time.
            stream.max_age = 0
        return stream.get_response(immutable=current)
