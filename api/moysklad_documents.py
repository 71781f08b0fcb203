"""MoySklad part 2 calls: counterparties (bulk, lists with bank accounts and contact persons),
orders and stock documents (customerorder, purchaseorder, demand, supply) created and updated
with a syncId, looked up by syncId, and their states from the metadata. A mixin of
MoySkladClient (data and drafts: ``moysklad_documents_data``).

Decisions:
- A document is created with one POST of the object carrying its ``syncId`` (or in bulk with
  ``push_documents``): MoySklad answers a repeated creation with the same syncId with the
  document it made the first time, so a lost answer is cured by sending it again (retries are
  on). Without a syncId the POST is sent once and a lost answer raises OutcomeUnknown.
- ``find_by_sync_id`` asks the list with ``filter=syncId=<uuid>`` (the documents' filter tables
  list syncId with ``=``): the lookup before re-sending when the caller prefers not to POST.
- Counterparty details: lists are asked with ``expand=accounts,contactpersons`` only when
  ``with_details`` (expand forces pages of 100: ten times the requests); otherwise
  ``list_accounts``/``list_contacts`` read one counterparty's collections.
- ``find_counterparties`` asks the counterparties whose field equals one of the values (the
  filter's repeated ``=`` is an OR), the values cut into chunks of 40 so that the URL stays
  short: the lookups before creating (externalCode, INN, email, phone) cost one request per
  chunk, never one per partner.
- ``counterparty_details`` reads the bank accounts and contact persons of the given
  counterparties in pages of 100 (``filter=id=…`` with ``expand``, MoySklad's limit with
  expand): only counterparties that changed and have some are asked.
- States come from ``entity/<kind>/metadata`` (``states``); a document's state is a meta whose
  id is matched against them (``MsDocument.state_id``).
"""

from .errors import BadResponse
from .moysklad_catalogue import STABLE_ORDER
from .moysklad_documents_data import DOCUMENT_KINDS, parse_document, parse_state
from .moysklad_partners_data import parse_account, parse_contact, parse_counterparty
from .moysklad_payloads import MAX_BULK_ITEMS, MAX_REQUEST_BYTES, check_uuid, payload_of
from .moysklad_query import Filter

FIND_CHUNK = 40
DETAILS_CHUNK = 100


def _kind(kind):
    if kind not in DOCUMENT_KINDS:
        raise ValueError(f"kind must be one of {DOCUMENT_KINDS}")
    return kind


def _since(updated_since, extra_filter=None):
    built = Filter()
    if updated_since is not None:
        built.updated_since(updated_since)
    text = str(built)
    if extra_filter:
        text = f"{text};{extra_filter}" if text else str(extra_filter)
    return text or None


class MoySkladDocumentsMixin:
    # -- counterparties ---------------------------------------------------------------------------
    def iter_counterparties(self, *, updated_since=None, filter=None, search=None,
                            include_archived=True, with_details=False, limit=1000):  # fmt: skip
        """Pages (MsPage of MsCounterparty); ``with_details``: bank accounts and contact persons
        expanded (pages of 100)."""
        extra = "archived=true;archived=false" if include_archived else None
        if filter:
            extra = f"{extra};{filter}" if extra else str(filter)
        return self.iter_pages(
            "entity/counterparty",
            parse=parse_counterparty,
            filter=_since(updated_since, extra),
            search=search,
            order=STABLE_ORDER,
            limit=limit,
            expand="accounts,contactpersons" if with_details else None,
        )

    def find_counterparties(self, field, values, *, chunk=FIND_CHUNK):
        """MsCounterparty (archived too) whose ``field`` equals one of ``values``."""
        values = sorted({str(value) for value in values if value})
        for start in range(0, len(values), chunk):
            wanted = Filter().any_of(field, values[start:start + chunk])
            for page in self.iter_counterparties(filter=str(wanted)):
                yield from page.items

    def counterparty_details(self, counterparty_ids, *, chunk=DETAILS_CHUNK):
        """{id: MsCounterparty with its bank accounts and contact persons}, in pages of 100."""
        ids = sorted({check_uuid(value, "counterparty id") for value in counterparty_ids})
        found = {}
        for start in range(0, len(ids), chunk):
            wanted = Filter().any_of("id", ids[start:start + chunk])
            for page in self.iter_counterparties(filter=str(wanted), with_details=True,
                                                 limit=chunk):  # fmt: skip
                found.update((item.id, item) for item in page.items)
        return found

    def get_counterparty(self, counterparty_id, *, with_details=True):
        check_uuid(counterparty_id, "counterparty id")
        params = {"expand": "accounts,contactpersons"} if with_details else None
        counterparty = parse_counterparty(
            self.get_json(f"entity/counterparty/{counterparty_id}", params))
        if counterparty is None:
            raise BadResponse("MoySklad answered the counterparty with no usable object")
        return counterparty

    def list_accounts(self, counterparty_id):
        check_uuid(counterparty_id, "counterparty id")
        return self.list_all(f"entity/counterparty/{counterparty_id}/accounts",
                             parse=parse_account, endpoint="entity/counterparty/accounts")  # fmt: skip

    def list_contacts(self, counterparty_id):
        check_uuid(counterparty_id, "counterparty id")
        return self.list_all(f"entity/counterparty/{counterparty_id}/contactpersons",
                             parse=parse_contact,
                             endpoint="entity/counterparty/contactpersons")  # fmt: skip

    def push_counterparties(self, items, *, max_items=MAX_BULK_ITEMS,
                            max_bytes=MAX_REQUEST_BYTES):  # fmt: skip
        """Bulk create/update (MsCounterpartyDraft or dicts): [MsItemResult] per POST, as
        ``push_products``."""
        return self.push_entities("counterparty", items, parse=parse_counterparty,
                                  max_items=max_items, max_bytes=max_bytes)  # fmt: skip

    # -- documents --------------------------------------------------------------------------------
    def create_document(self, draft):
        """Create one document (MsDocumentDraft without href): its MsDocument. Retried when it
        carries a syncId (a repeat returns the same document); else sent once."""
        if draft.href:
            raise ValueError("create_document is for new documents; use update_document")
        kind = _kind(draft.kind)
        body = payload_of(draft, kind)
        document = self.post_json(f"entity/{kind}", body, endpoint=f"entity/{kind}",
                                  once=not body.get("syncId"))  # fmt: skip
        return self._parsed_document(document, kind)

    def update_document(self, draft):
        """Change a document (``href`` set): PUT of the given fields (positions, when given,
        replace the document's positions)."""
        if not draft.href:
            raise ValueError("update_document needs the document's href")
        kind = _kind(draft.kind)
        body = payload_of(draft, kind)
        body.pop("meta", None)
        document_id = draft.href.rstrip("/").rsplit("/", 1)[-1]
        check_uuid(document_id, f"{kind} id")
        document = self.put_json(f"entity/{kind}/{document_id}", body, endpoint=f"entity/{kind}")
        return self._parsed_document(document, kind)

    def push_documents(self, kind, items, *, max_items=MAX_BULK_ITEMS,
                       max_bytes=MAX_REQUEST_BYTES):  # fmt: skip
        """Bulk create/update of documents of one kind: [MsItemResult] per POST."""
        return self.push_entities(_kind(kind), items, parse=parse_document,
                                  max_items=max_items, max_bytes=max_bytes)  # fmt: skip

    def get_document(self, kind, document_id, *, expand=None):
        kind = _kind(kind)
        check_uuid(document_id, f"{kind} id")
        params = {"expand": expand} if expand else None
        return self._parsed_document(self.get_json(f"entity/{kind}/{document_id}", params,
                                                   endpoint=f"entity/{kind}"), kind)  # fmt: skip

    def find_by_sync_id(self, entity_type, sync_id):
        """The object created with ``sync_id``, or None: the lookup after a lost answer."""
        sync_id = check_uuid(sync_id)
        parse = parse_document if entity_type in DOCUMENT_KINDS else parse_counterparty
        for page in self.iter_pages(f"entity/{entity_type}", parse=parse,
                                    filter=Filter().eq("syncId", sync_id), limit=1):  # fmt: skip
            for item in page.items:
                if not item.sync_id or item.sync_id == sync_id:
                    return item
            break
        return None

    def iter_documents(self, kind, *, updated_since=None, filter=None, limit=1000, expand=None):
        """Pages (MsPage of MsDocument): for status pulls, ``updated_since`` the watermark."""
        kind = _kind(kind)
        return self.iter_pages(f"entity/{kind}", parse=parse_document,
                               filter=_since(updated_since, filter), order=STABLE_ORDER,
                               limit=limit, expand=expand)  # fmt: skip

    def document_states(self, kind):
        """[MsState] of a document kind (``entity/<kind>/metadata``)."""
        kind = _kind(kind)
        document = self.get_json(f"entity/{kind}/metadata", endpoint=f"entity/{kind}/metadata")
        states = document.get("states") if isinstance(document, dict) else None
        if not isinstance(states, list):
            raise BadResponse(f"MoySklad's {kind} metadata has no states")
        return [state for state in map(parse_state, states) if state]

    @staticmethod
    def _parsed_document(document, kind):
        parsed = parse_document(document)
        if parsed is None:
            raise BadResponse(f"MoySklad answered the {kind} with no usable document")
        return parsed
