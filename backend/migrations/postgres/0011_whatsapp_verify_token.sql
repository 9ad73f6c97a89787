-- The webhook's verify token, made once here rather than on every read of the settings.
UPDATE whatsapp_settings SET verify_token = replace(CAST(gen_random_uuid() AS TEXT), '-', '') WHERE verify_token = '';
