DROP TABLE set_aside_events;
DROP TABLE bridge_commands;
DROP TABLE bridge_segments;
DROP TABLE bridge_streams;
DROP TABLE chatwoot_integrations;
DROP TABLE instances;
DROP TABLE accounts;
