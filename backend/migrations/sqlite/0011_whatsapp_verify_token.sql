-- The webhook's verify token, made once here rather than on every read of the settings.
UPDATE whatsapp_settings SET verify_token = lower(hex(randomblob(16))) WHERE verify_token = '';
