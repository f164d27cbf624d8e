DROP TABLE bridge_commands;
DROP TABLE bridge_events;
DROP TABLE bridge_streams;
