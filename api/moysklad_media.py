"""MoySklad images (list, upload as base64, delete, download through the temporary link) and
webhooks (entity and stock webhooks: list, create, delete). A mixin of MoySkladClient.

Decision: an image upload is sent once (a repeat after a lost answer could add the image twice),
but a 429 is no lost answer: MoySklad refused the request before doing anything. So an upload
answered 429 is sent again after ``X-Lognex-Retry-After`` (else ``Retry-After``, else the
backoff), as every other request is, at most ``max_retries`` times; a wait over
``max_retry_after`` seconds, the circuit breaker or our own budget refusing it end the upload
with the rate-limit error at once, as for other requests.
"""

from .errors import BadResponse, RateLimited, TooLarge
from .moysklad_data import text
from .moysklad_payloads import check_uuid, image_payload
from .moysklad_reference_data import parse_image, parse_webhook

WEBHOOK_ACTIONS = ("CREATE", "UPDATE", "DELETE", "PROCESSED")


class MoySkladMediaMixin:
    # -- images -----------------------------------------------------------------------------------
    def list_images(self, entity_id, *, entity_type="product"):
        check_uuid(entity_id, f"{entity_type} id")
        return self.list_all(f"entity/{entity_type}/{entity_id}/images", parse=parse_image,
                             endpoint=f"entity/{entity_type}/images")  # fmt: skip

    def add_image(self, entity_id, filename, content, *, entity_type="product"):
        """Upload one image (bytes, sent base64): the product's images after it ([MsImage]).
        Sent once (a repeat could add it twice): a lost answer is OutcomeUnknown, then compare
        ``list_images`` by filename and size."""
        check_uuid(entity_id, f"{entity_type} id")
        body = image_payload(filename, content)
        document = self._post_once_retrying_429(f"entity/{entity_type}/{entity_id}/images", body,
                                                endpoint=f"entity/{entity_type}/images")  # fmt: skip
        rows = document if isinstance(document, list) else (
            document.get("rows") if isinstance(document, dict) else None)  # fmt: skip
        if not isinstance(rows, list):
            raise BadResponse("MoySklad answered the image upload with no list of images")
        return [image for image in map(parse_image, rows) if image]

    def _post_once_retrying_429(self, path, body, *, endpoint):
        """``post_json(..., once=True)``, sent again when MoySklad answered 429 (see the module
        docstring); any other failure as ``once`` has it (a lost answer: OutcomeUnknown)."""
        retries = 0
        while True:
            try:
                return self.post_json(path, body, endpoint=endpoint, once=True)
            except RateLimited as exc:
                # Only MoySklad's own 429 (status set): not our budget's or the breaker's refusal.
                wait = exc.retry_after
                if (exc.status != 429 or retries >= self.max_retries
                        or (wait is not None and wait > self.max_retry_after)):  # fmt: skip
                    if exc.status == 429 and retries:
                        exc.message = (f"{exc.message.split('; still refused')[0]}; still refused "
                                       f"after {retries} retries")  # fmt: skip
                    raise
                delay = wait if wait is not None else self._backoff(retries)
            retries += 1
            self.sleep(delay)

    def delete_image(self, entity_id, image_id, *, entity_type="product"):
        check_uuid(entity_id, f"{entity_type} id")
        self.delete(f"entity/{entity_type}/{entity_id}/images/{image_id}",
                    endpoint=f"entity/{entity_type}/images")  # fmt: skip

    def download_image(self, image, *, max_bytes, allowed_hosts=None):
        """The image's bytes. ``downloadHref`` on the API is asked with the token and answers
        with a redirect to a temporary link; that link is fetched without the token, checked
        like every download (https, ``allowed_hosts``: moysklad.ru by default, size cap)."""
        href = image.download_href if hasattr(image, "download_href") else text(image)
        hosts = self.allowed_hosts if allowed_hosts is None else allowed_hosts
        if not self._is_api_url(href):
            return self.download(href, max_bytes=max_bytes, allowed_hosts=hosts)
        response = self._call("GET", href, endpoint="download", allow_redirects=False)
        status = response.status_code
        if status in (301, 302, 303, 307, 308):
            location = text(response.headers.get("Location"))
            response.close()
            if not location:
                raise BadResponse("MoySklad's image redirect has no Location", status=status)
            return self.download(location, max_bytes=max_bytes, allowed_hosts=hosts)
        self._raise_for_status(response, "GET download")
        content = response.content
        response.close()
        if len(content) > max_bytes:
            raise TooLarge(f"The image is over the {max_bytes} bytes limit")
        return content

    # -- webhooks ---------------------------------------------------------------------------------
    def list_webhooks(self):
        return self.list_all("entity/webhook", parse=parse_webhook)

    def create_webhook(self, url, action, entity_type, *, diff_type=None):
        """Create a webhook (PlanRequired on a free plan: 30006; AlreadyExists: 30003)."""
        action = str(action).upper()
        if action not in WEBHOOK_ACTIONS:
            raise ValueError(f"action must be one of {WEBHOOK_ACTIONS}")
        body = {"url": text(url), "action": action, "entityType": text(entity_type)}
        if diff_type:
            body["diffType"] = diff_type
        return self._parsed_webhook(self.post_json("entity/webhook", body))

    def delete_webhook(self, webhook_id):
        check_uuid(webhook_id, "webhook id")
        self.delete(f"entity/webhook/{webhook_id}", endpoint="entity/webhook")

    def list_stock_webhooks(self):
        return self.list_all("entity/webhookstock", parse=parse_webhook)

    def create_stock_webhook(self, url, *, report_type="bystore", stock_type="stock"):
        body = {"url": text(url), "reportType": report_type, "stockType": stock_type}
        return self._parsed_webhook(self.post_json("entity/webhookstock", body))

    def delete_stock_webhook(self, webhook_id):
        check_uuid(webhook_id, "webhook id")
        self.delete(f"entity/webhookstock/{webhook_id}", endpoint="entity/webhookstock")

    @staticmethod
    def _parsed_webhook(document):
        webhook = parse_webhook(document)
        if webhook is None:
            raise BadResponse("MoySklad answered the webhook creation with no webhook")
        return webhook
