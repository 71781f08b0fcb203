-- A neutralized copy of the database (staging, support) must never talk to the suppliers
-- with production credentials, nor run their syncs.
DELETE FROM supplier_backend_credential;
UPDATE supplier_backend SET catalogue_job_ref = NULL, login_blocked_until = NULL;
UPDATE supplier_backend_schedule SET enabled = FALSE;
UPDATE ir_cron SET active = FALSE
 WHERE id IN (SELECT res_id FROM ir_model_data
               WHERE module = 'supplier_connector' AND model = 'ir.cron');
