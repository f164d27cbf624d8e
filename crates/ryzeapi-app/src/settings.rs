//! Typed settings, layered by the `config` crate: built-in defaults, then an
//! optional TOML file (`RYZEAPI_CONFIG`, default `ryzeapi.toml` if present),
//! then the environment (`DATABASE_URL`, `BRIDGE_URL`, ... as documented).

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// A secret setting: never printed by `Debug`.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "<unset>"
        } else {
            "<redacted>"
        })
    }
}

/// Every setting of the server. Field names are the environment variables, lower-cased.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `postgres://…` or `sqlite://PATH`.
    pub database_url: String,
    /// Connections in the pool.
    pub database_pool_size: u32,
    /// Address the HTTP server binds (`127.0.0.1:0` picks a free port).
    pub listen_addr: String,
    /// The server's public base URL; defaults to `http://<listen address>`.
    pub base_url: String,
    /// Active AES-256-GCM key, base64 of 32 bytes.
    pub encryption_key: Secret,
    /// Version number of the active key.
    pub encryption_key_id: u32,
    /// Earlier keys still accepted for reading: `id:base64,id:base64`.
    pub encryption_old_keys: Secret,
    /// Where the embedded default keeps a generated key when `ENCRYPTION_KEY` is unset.
    pub encryption_key_file: String,
    /// Base URL of the bridge; the Chatwoot module is off while unset.
    pub bridge_url: String,
    /// Service token shared with the bridge; the module is off while unset.
    pub bridge_token: Secret,
    /// URL the bridge uses to reach this server; defaults to `BASE_URL`.
    pub bridge_internal_ryzeapi_url: String,
    /// Connect timeout of bridge calls, seconds.
    pub bridge_connect_timeout_secs: u64,
    /// Budget of the activate call, seconds.
    pub bridge_activate_timeout_secs: u64,
    /// Budget of the status call, seconds.
    pub bridge_status_timeout_secs: u64,
    /// Budget of the delete call, seconds.
    pub bridge_delete_timeout_secs: u64,
    /// Ensures an account with this token exists at startup (containers).
    pub bootstrap_account_token: Secret,
    /// Name of that account.
    pub bootstrap_account_name: String,
    /// Instance quota of accounts created without an explicit one.
    pub default_max_instances: u32,
    /// Largest accepted request body, bytes.
    pub max_body_bytes: usize,
    /// Requests per minute per token (0 turns limiting off).
    pub rate_limit_per_minute: u32,
    /// Instance creations per minute per account token (0 turns it off).
    pub rate_limit_create_per_minute: u32,
    /// HTTP worker threads (0: one per core).
    pub workers: usize,
    /// The WhatsApp engine (`memory`: the in-process engine).
    pub whatsapp_engine: String,
    /// Registers the in-process engine's injection routes (`/dev/engine/...`); loopback only.
    pub dev_engine_routes: bool,
    /// Acknowledged events are kept this long before pruning, seconds.
    pub event_retention_acked_secs: u64,
    /// Any event, acknowledged or not, is pruned after this many hours.
    pub event_retention_max_hours: u64,
    /// How often the log is pruned, seconds.
    pub event_prune_interval_secs: u64,
    /// Interval of the server's pings on both sockets, seconds.
    pub ws_heartbeat_secs: u64,
    /// A peer silent this long is dropped, seconds.
    pub ws_heartbeat_timeout_secs: u64,
    /// A single frame write may take this long before the peer is dropped, seconds.
    pub ws_send_timeout_secs: u64,
    /// Events the bridge may have unacknowledged at once.
    pub bridge_window: u64,
    /// Largest frame accepted from the bridge, bytes.
    pub bridge_max_frame_bytes: usize,
    /// Bytes of frames that may wait for one public socket client before it
    /// is dropped as too slow.
    pub public_ws_queue_bytes: usize,
    /// How long the oldest frame waiting for a public socket client may have
    /// waited before the client is dropped as too slow, seconds.
    pub public_ws_max_lag_secs: u64,
    /// `PUBLIC_WS_QUEUE`, a frame count that no longer has an effect (a
    /// client is judged by [`Settings::public_ws_queue_bytes`] and
    /// [`Settings::public_ws_max_lag_secs`]); read only to warn at startup.
    pub public_ws_queue: Option<u64>,
    /// Kernel send buffer of every accepted connection, bytes (0: the
    /// operating system's own, growing to several MiB).
    pub tcp_send_buffer_bytes: usize,
    /// Time allowed to receive a request's whole body after its head, seconds.
    pub body_read_timeout_secs: u64,
    /// Connections one client address may hold open at once (0: no limit).
    pub max_connections_per_ip: usize,
    /// Proxies whose `X-Forwarded-For` is believed: comma-separated
    /// addresses and CIDR networks (empty: none, the peer is the client).
    pub trusted_proxies: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: "sqlite://./data/ryzeapi.db".into(),
            database_pool_size: 10,
            listen_addr: "127.0.0.1:8080".into(),
            base_url: String::new(),
            encryption_key: Secret::default(),
            encryption_key_id: 1,
            encryption_old_keys: Secret::default(),
            encryption_key_file: "./data/encryption.key".into(),
            bridge_url: String::new(),
            bridge_token: Secret::default(),
            bridge_internal_ryzeapi_url: String::new(),
            bridge_connect_timeout_secs: 5,
            bridge_activate_timeout_secs: 60,
            bridge_status_timeout_secs: 10,
            bridge_delete_timeout_secs: 30,
            bootstrap_account_token: Secret::default(),
            bootstrap_account_name: "bootstrap".into(),
            default_max_instances: 100,
            max_body_bytes: 64 * 1024,
            rate_limit_per_minute: 100,
            rate_limit_create_per_minute: 20,
            workers: 0,
            whatsapp_engine: "memory".into(),
            dev_engine_routes: false,
            event_retention_acked_secs: 3600,
            event_retention_max_hours: 72,
            event_prune_interval_secs: 60,
            ws_heartbeat_secs: 20,
            ws_heartbeat_timeout_secs: 60,
            ws_send_timeout_secs: 10,
            bridge_window: ryzeapi_protocol::limits::DEFAULT_WINDOW,
            bridge_max_frame_bytes: ryzeapi_protocol::limits::DEFAULT_MAX_FRAME_BYTES,
            public_ws_queue_bytes: 16 * 1024 * 1024,
            public_ws_max_lag_secs: 30,
            public_ws_queue: None,
            tcp_send_buffer_bytes: 128 * 1024,
            body_read_timeout_secs: 10,
            max_connections_per_ip: 64,
            trusted_proxies: String::new(),
        }
    }
}

impl Settings {
    /// Defaults, then the optional file, then the process environment.
    ///
    /// # Errors
    /// A file that cannot be parsed, or a value of the wrong type.
    pub fn load() -> anyhow::Result<Self> {
        Self::load_from(None)
    }

    /// Like [`Settings::load`], reading the variables from `env` instead of
    /// the process environment when given.
    ///
    /// # Errors
    /// A file that cannot be parsed, or a value of the wrong type.
    pub fn load_from(env: Option<HashMap<String, String>>) -> anyhow::Result<Self> {
        let file = match &env {
            Some(vars) => vars.get("RYZEAPI_CONFIG").cloned(),
            None => std::env::var("RYZEAPI_CONFIG").ok(),
        };
        let required = file.is_some();
        let path = file.unwrap_or_else(|| "ryzeapi.toml".into());
        let settings: Self = config::Config::builder()
            .add_source(config::File::new(&path, config::FileFormat::Toml).required(required))
            .add_source(config::Environment::default().source(env))
            .build()?
            .try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks values the types cannot.
    ///
    /// # Errors
    /// A message naming the setting.
    pub fn validate(&self) -> anyhow::Result<()> {
        for (name, secs) in [
            (
                "BRIDGE_CONNECT_TIMEOUT_SECS",
                self.bridge_connect_timeout_secs,
            ),
            (
                "BRIDGE_ACTIVATE_TIMEOUT_SECS",
                self.bridge_activate_timeout_secs,
            ),
            (
                "BRIDGE_STATUS_TIMEOUT_SECS",
                self.bridge_status_timeout_secs,
            ),
            (
                "BRIDGE_DELETE_TIMEOUT_SECS",
                self.bridge_delete_timeout_secs,
            ),
        ] {
            anyhow::ensure!(
                (1..=600).contains(&secs),
                "{name} must be between 1 and 600 seconds"
            );
        }
        anyhow::ensure!(
            (1024..=16 * 1024 * 1024).contains(&self.max_body_bytes),
            "MAX_BODY_BYTES must be between 1024 and 16777216"
        );
        anyhow::ensure!(
            self.database_pool_size >= 1,
            "DATABASE_POOL_SIZE must be at least 1"
        );
        anyhow::ensure!(
            self.whatsapp_engine == "memory",
            "WHATSAPP_ENGINE must be 'memory' (the only engine built in)"
        );
        anyhow::ensure!(
            (1..=3600).contains(&self.ws_heartbeat_secs)
                && self.ws_heartbeat_timeout_secs > self.ws_heartbeat_secs
                && self.ws_heartbeat_timeout_secs <= 86_400,
            "WS_HEARTBEAT_SECS must be 1..=3600 and WS_HEARTBEAT_TIMEOUT_SECS greater than it (at most 86400)"
        );
        anyhow::ensure!(
            (1..=600).contains(&self.ws_send_timeout_secs),
            "WS_SEND_TIMEOUT_SECS must be between 1 and 600"
        );
        anyhow::ensure!(
            (1..=86_400).contains(&self.event_prune_interval_secs),
            "EVENT_PRUNE_INTERVAL_SECS must be between 1 and 86400"
        );
        anyhow::ensure!(
            self.event_retention_max_hours >= 1,
            "EVENT_RETENTION_MAX_HOURS must be at least 1"
        );
        anyhow::ensure!(
            (1..=100_000).contains(&self.bridge_window),
            "BRIDGE_WINDOW must be between 1 and 100000"
        );
        anyhow::ensure!(
            (4096..=64 * 1024 * 1024).contains(&self.bridge_max_frame_bytes),
            "BRIDGE_MAX_FRAME_BYTES must be between 4096 and 67108864"
        );
        anyhow::ensure!(
            (64 * 1024..=1024 * 1024 * 1024).contains(&self.public_ws_queue_bytes),
            "PUBLIC_WS_QUEUE_BYTES must be between 65536 and 1073741824"
        );
        anyhow::ensure!(
            (1..=3600).contains(&self.public_ws_max_lag_secs),
            "PUBLIC_WS_MAX_LAG_SECS must be between 1 and 3600"
        );
        anyhow::ensure!(
            self.tcp_send_buffer_bytes == 0
                || (4096..=64 * 1024 * 1024).contains(&self.tcp_send_buffer_bytes),
            "TCP_SEND_BUFFER_BYTES must be 0 (the system's default) or between 4096 and 67108864"
        );
        anyhow::ensure!(
            (1..=3600).contains(&self.body_read_timeout_secs),
            "BODY_READ_TIMEOUT_SECS must be between 1 and 3600"
        );
        anyhow::ensure!(
            self.max_connections_per_ip <= 1_000_000,
            "MAX_CONNECTIONS_PER_IP must be 0 (no limit) or at most 1000000"
        );
        self.trusted_proxies()?;
        if self.dev_engine_routes {
            let host = self.listen_addr.rsplit_once(':').map_or("", |(h, _)| h);
            anyhow::ensure!(
                matches!(host, "127.0.0.1" | "localhost" | "[::1]"),
                "DEV_ENGINE_ROUTES=true is only allowed when LISTEN_ADDR is a loopback address"
            );
        }
        if !self.bridge_url.trim().is_empty() {
            let url = self.bridge_url.trim();
            anyhow::ensure!(
                url.starts_with("http://") || url.starts_with("https://"),
                "BRIDGE_URL must be an http:// or https:// URL"
            );
        }
        Ok(())
    }

    /// Whether the Chatwoot module is on: both `BRIDGE_URL` and `BRIDGE_TOKEN` set.
    pub fn module_enabled(&self) -> bool {
        !self.bridge_url.trim().is_empty() && !self.bridge_token.expose().trim().is_empty()
    }

    /// The parsed `TRUSTED_PROXIES`.
    ///
    /// # Errors
    /// An entry that is neither an address nor a CIDR network.
    pub fn trusted_proxies(&self) -> anyhow::Result<crate::client_ip::TrustedProxies> {
        Ok(crate::client_ip::TrustedProxies::parse(
            &self.trusted_proxies,
        )?)
    }

    /// Connect timeout for bridge calls.
    pub fn bridge_timeouts(&self) -> ryzeapi_adapters::BridgeTimeouts {
        ryzeapi_adapters::BridgeTimeouts {
            connect: Duration::from_secs(self.bridge_connect_timeout_secs),
            activate: Duration::from_secs(self.bridge_activate_timeout_secs),
            status: Duration::from_secs(self.bridge_status_timeout_secs),
            delete: Duration::from_secs(self.bridge_delete_timeout_secs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let settings = Settings {
            encryption_key: Secret::new("a2V5a2V5"),
            bridge_token: Secret::new("bridge-secret-value"),
            bootstrap_account_token: Secret::new("bootstrap-secret-value"),
            ..Settings::default()
        };
        let text = format!("{settings:?}");
        assert!(!text.contains("bridge-secret-value"));
        assert!(!text.contains("bootstrap-secret-value"));
        assert!(!text.contains("a2V5a2V5"));
    }

    #[test]
    fn environment_names_are_the_documented_ones() {
        let env: HashMap<String, String> = [
            ("DATABASE_URL", "postgres://db/ryzeapi"),
            ("LISTEN_ADDR", "0.0.0.0:9000"),
            ("BASE_URL", "https://api.example.com"),
            ("BRIDGE_URL", "http://bridge:7000"),
            ("BRIDGE_TOKEN", "12345"),
            ("BRIDGE_INTERNAL_RYZEAPI_URL", "http://ryzeapi:9000"),
            ("BRIDGE_ACTIVATE_TIMEOUT_SECS", "90"),
            ("RATE_LIMIT_PER_MINUTE", "7"),
            ("BOOTSTRAP_ACCOUNT_TOKEN", "bootstrap-token-0123456789"),
            ("ENCRYPTION_KEY_ID", "3"),
            ("BODY_READ_TIMEOUT_SECS", "15"),
            ("MAX_CONNECTIONS_PER_IP", "8"),
            ("TRUSTED_PROXIES", "10.0.0.1,192.168.0.0/16"),
            ("PUBLIC_WS_QUEUE_BYTES", "4194304"),
            ("PUBLIC_WS_MAX_LAG_SECS", "5"),
            ("PUBLIC_WS_QUEUE", "256"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let s = Settings::load_from(Some(env)).unwrap();
        assert_eq!(s.database_url, "postgres://db/ryzeapi");
        assert_eq!(s.listen_addr, "0.0.0.0:9000");
        assert_eq!(s.base_url, "https://api.example.com");
        assert_eq!(s.bridge_url, "http://bridge:7000");
        assert_eq!(s.bridge_token.expose(), "12345");
        assert_eq!(s.bridge_internal_ryzeapi_url, "http://ryzeapi:9000");
        assert_eq!(s.bridge_activate_timeout_secs, 90);
        assert_eq!(s.bridge_status_timeout_secs, 10, "defaults stay");
        assert_eq!(s.rate_limit_per_minute, 7);
        assert_eq!(s.encryption_key_id, 3);
        assert_eq!(s.body_read_timeout_secs, 15);
        assert_eq!(s.max_connections_per_ip, 8);
        assert_eq!(s.public_ws_queue_bytes, 4 * 1024 * 1024);
        assert_eq!(s.public_ws_max_lag_secs, 5);
        assert_eq!(
            s.public_ws_queue,
            Some(256),
            "read, to warn that it has no effect"
        );
        assert!(s
            .trusted_proxies()
            .unwrap()
            .contains("192.168.4.4".parse().unwrap()));
        assert!(s.module_enabled());
        let bad: HashMap<String, String> =
            [("RATE_LIMIT_PER_MINUTE".to_owned(), "lots".to_owned())]
                .into_iter()
                .collect();
        assert!(Settings::load_from(Some(bad)).is_err());
    }

    #[test]
    fn a_named_config_file_is_read_and_the_environment_wins() {
        let dir = std::env::temp_dir().join(format!("ryzeapi-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("ryzeapi.toml");
        std::fs::write(
            &file,
            "listen_addr = \"127.0.0.1:7777\"\nmax_body_bytes = 4096\n",
        )
        .unwrap();
        let env: HashMap<String, String> = [
            ("RYZEAPI_CONFIG".to_owned(), file.display().to_string()),
            ("MAX_BODY_BYTES".to_owned(), "8192".to_owned()),
        ]
        .into_iter()
        .collect();
        let s = Settings::load_from(Some(env)).unwrap();
        assert_eq!(s.listen_addr, "127.0.0.1:7777");
        assert_eq!(s.max_body_bytes, 8192);
        let missing: HashMap<String, String> = [(
            "RYZEAPI_CONFIG".to_owned(),
            dir.join("nope.toml").display().to_string(),
        )]
        .into_iter()
        .collect();
        assert!(
            Settings::load_from(Some(missing)).is_err(),
            "a named file must exist"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn module_needs_both_settings() {
        let mut s = Settings::default();
        assert!(!s.module_enabled());
        s.bridge_url = "http://bridge:9000".into();
        assert!(!s.module_enabled());
        s.bridge_token = Secret::new("t");
        assert!(s.module_enabled());
        s.bridge_url = "  ".into();
        assert!(!s.module_enabled());
    }

    #[test]
    fn event_flow_settings_are_range_checked() {
        for (s, name) in [
            (
                Settings {
                    ws_heartbeat_secs: 0,
                    ..Settings::default()
                },
                "WS_HEARTBEAT_SECS",
            ),
            (
                Settings {
                    ws_heartbeat_timeout_secs: 5,
                    ws_heartbeat_secs: 10,
                    ..Settings::default()
                },
                "WS_HEARTBEAT_TIMEOUT_SECS",
            ),
            (
                Settings {
                    event_prune_interval_secs: 0,
                    ..Settings::default()
                },
                "EVENT_PRUNE_INTERVAL_SECS",
            ),
            (
                Settings {
                    event_retention_max_hours: 0,
                    ..Settings::default()
                },
                "EVENT_RETENTION_MAX_HOURS",
            ),
            (
                Settings {
                    bridge_window: 0,
                    ..Settings::default()
                },
                "BRIDGE_WINDOW",
            ),
            (
                Settings {
                    public_ws_queue_bytes: 1024,
                    ..Settings::default()
                },
                "PUBLIC_WS_QUEUE_BYTES",
            ),
            (
                Settings {
                    public_ws_max_lag_secs: 0,
                    ..Settings::default()
                },
                "PUBLIC_WS_MAX_LAG_SECS",
            ),
            (
                Settings {
                    tcp_send_buffer_bytes: 100,
                    ..Settings::default()
                },
                "TCP_SEND_BUFFER_BYTES",
            ),
            (
                Settings {
                    bridge_max_frame_bytes: 10,
                    ..Settings::default()
                },
                "BRIDGE_MAX_FRAME_BYTES",
            ),
            (
                Settings {
                    body_read_timeout_secs: 0,
                    ..Settings::default()
                },
                "BODY_READ_TIMEOUT_SECS",
            ),
            (
                Settings {
                    trusted_proxies: "10.0.0.0/8, proxy.internal".into(),
                    ..Settings::default()
                },
                "TRUSTED_PROXIES",
            ),
            (
                Settings {
                    whatsapp_engine: "real".into(),
                    ..Settings::default()
                },
                "WHATSAPP_ENGINE",
            ),
            (
                Settings {
                    dev_engine_routes: true,
                    listen_addr: "0.0.0.0:8080".into(),
                    ..Settings::default()
                },
                "DEV_ENGINE_ROUTES",
            ),
        ] {
            let err = s.validate().unwrap_err().to_string();
            assert!(err.contains(name), "{name}: {err}");
        }
        let loopback = Settings {
            dev_engine_routes: true,
            ..Settings::default()
        };
        assert!(loopback.validate().is_ok());
    }

    #[test]
    fn validation_names_the_setting() {
        let s = Settings {
            bridge_status_timeout_secs: 0,
            ..Settings::default()
        };
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("BRIDGE_STATUS_TIMEOUT_SECS"));
        let s = Settings {
            bridge_url: "bridge:9000".into(),
            ..Settings::default()
        };
        assert!(s.validate().unwrap_err().to_string().contains("BRIDGE_URL"));
    }
}
