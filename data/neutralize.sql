-- A neutralized copy of the database (staging, support) must never talk to the suppliers
-- with production credentials, nor run their syncs.
UPDATE supplier_backend
   SET login = NULL, password = NULL, api_key = NULL,
       session_token = NULL, session_expires_at = NULL, session_logged_in_at = NULL, catalogue_job_ref = NULL;
UPDATE supplier_backend_schedule SET enabled = FALSE;
UPDATE ir_cron SET active = FALSE
 WHERE id IN (SELECT res_id FROM ir_model_data
               WHERE module = 'supplier_connector' AND model = 'ir.cron');
