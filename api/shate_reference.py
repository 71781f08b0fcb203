"""ShateClient's reference lists: customer, agreements, delivery addresses and dates, locations,
order item status codes, trademarks; and article pictures (contents).

- contents/search takes one ``contentId`` per request (the document's body); ``value`` is a
  ``data:`` URI in the document: ``content_bytes`` decodes it, or downloads a link from the
  Shate-M hosts only.
"""

from urllib.parse import quote

from .errors import BadResponse, NotFound, TooLarge
from .etm_data import text
from .shate_catalogue_data import parse_contents
from .shate_convert import API, rows_of
from .shate_reference_data import (
    parse_agreement,
    parse_customer,
    parse_delivery_address,
    parse_delivery_dates,
    parse_location,
    parse_status_code,
    parse_trademark,
)


class ShateReferenceMixin:
    """Reference lists and pictures; mixed into ShateClient (its ``_get``/``_checked_json``)."""

    def get_customer_info(self):
        """The account's personal data (the document answers a one-item list); None if empty."""
        rows = rows_of(self._get(f"{API}/customer/info", endpoint="customer"), "customer")
        return parse_customer(rows[0]) if rows else None

    def get_agreements(self):
        rows = rows_of(self._get(f"{API}/customer/agreements", endpoint="customer"), "agreements")
        return [parse_agreement(row) for row in rows]

    def get_delivery_addresses(self):
        document = self._get(f"{API}/delivery/addresses", endpoint="delivery")
        return [parse_delivery_address(row) for row in rows_of(document, "delivery addresses")]

    def get_delivery_dates(self, location_code, delivery_address_code, days_count=None):
        """Delivery dates/times available from a location to an address (naive UTC)."""
        params = {"locationCode": location_code, "deliveryAddressCode": delivery_address_code}
        if days_count:
            params["daysCount"] = int(days_count)
        document = self._get(
            f"{API}/delivery/availableDateTimes", endpoint="delivery", params=params
        )
        return parse_delivery_dates(document)

    def get_locations(self):
        """The warehouses; also remembered so that offers carry their location's name."""
        document = self._get(f"{API}/locations", endpoint="locations")
        locations = [parse_location(row) for row in rows_of(document, "locations")]
        self.location_names = {loc.code: loc.name for loc in locations if loc.code}
        return locations

    def get_order_item_status_codes(self):
        document = self._get(f"{API}/orderItemStatusCodes", endpoint="statuses")
        return [parse_status_code(row) for row in rows_of(document, "status codes")]

    def get_trademarks(self):
        document = self._get(f"{API}/trademarks", endpoint="trademarks")
        return [parse_trademark(row) for row in rows_of(document, "trademarks")]

    def get_trademark(self, name):
        path = f"{API}/trademarks/{quote(text(name), safe='')}"
        rows = rows_of(self._get(path, endpoint="trademarks"), "trademark")
        if not rows:
            raise NotFound("Shate-M does not know this trademark", status=404)
        return parse_trademark(rows[0])

    # -- contents -----------------------------------------------------------------------------
    def search_content(self, content_ids, *, height=None, width=None):
        """Pictures by content id (from ``get_article(include='contents')``) → {id: ShateContent}.

        One request per id, as the document's body takes one ``contentId``.
        """
        found = {}
        for content_id in dict.fromkeys(text(value) for value in content_ids if text(value)):
            body = {"contentId": content_id}
            if height:
                body["heightSize"] = int(height)
            if width:
                body["widthSize"] = int(width)
            try:
                document = self._checked_json(
                    "POST", f"{API}/contents/search", endpoint="contents", json=body
                )
            except NotFound:
                continue
            contents = parse_contents(document)
            for content in contents:
                key = content_id if len(contents) == 1 else (content.content_id or content_id)
                found[key] = content
        return found

    def content_bytes(self, content, max_bytes=5_000_000):
        """The picture's bytes: a ``data:`` URI decoded, or a link downloaded from Shate-M hosts."""
        if content.is_data_uri:
            data = content.data
            if data is None:
                raise BadResponse("Malformed data URI in the Shate-M content answer")
            if len(data) > max_bytes:
                raise TooLarge(f"The picture is over the {max_bytes} bytes limit")
            return data
        return self.download(
            content.url, max_bytes=max_bytes, allowed_hosts=self.allowed_hosts, endpoint="content"
        )
