/** @odoo-module **/
/**
 * Client action "supplier_connector.reload_thread": the chatter of a record fetches its new
 * messages (a note a button just posted), then ``params.next`` runs (usually closing, which
 * reloads the record). An object button alone reloads the record but not its messages.
 */
import { registry } from "@web/core/registry";

function reloadThread(env, action) {
    const { model, id, next } = action.params || {};
    if (model && id) {
        env.bus.trigger("MAIL:RELOAD-THREAD", { model, id });
    }
    return next;
}

registry.category("actions").add("supplier_connector.reload_thread", reloadThread);
