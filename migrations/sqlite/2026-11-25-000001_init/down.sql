DROP TABLE chatwoot_integrations;
DROP TABLE instances;
DROP TABLE accounts;
