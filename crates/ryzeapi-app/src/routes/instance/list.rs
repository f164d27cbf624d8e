//! `GET /api/instance/list`: an account's instances (optionally filtered by
//! `?instanceName=a,b`), or a TokenInstance's own instance (use case:
//! `ryzeapi_core::instances::list`).

use actix_web::{web, HttpRequest, HttpResponse};
use ryzeapi_core::instances;
use serde_json::json;

use crate::auth::{authenticate, percent_decode};
use crate::error::ApiError;
use crate::state::{blocking, AppState};
use crate::views;

fn requested_names(req: &HttpRequest) -> Vec<String> {
    req.query_string()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(k, _)| *k == "instanceName")
        .flat_map(|(_, v)| {
            percent_decode(v)
                .split(',')
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// 200 `"<N> Instances found"` with the list.
///
/// # Errors
/// 401/429, 403 (TokenInstance naming another), 404 (a single unknown name), 500.
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&req, &state, "requests", state.rate_limit()).await?;
    let names = requested_names(&req);
    let ports = state.ports.clone();
    let listed = blocking(move || Ok(instances::list(&ports, &caller, &names)?)).await?;
    let listed: Vec<_> = listed
        .iter()
        .map(|(instance, chatwoot)| views::instance(instance, chatwoot.as_ref()))
        .collect();
    let message = if listed.len() == 1 {
        "1 Instance found".to_owned()
    } else {
        format!("{} Instances found", listed.len())
    };
    Ok(HttpResponse::Ok().json(json!({"success": true, "message": message, "data": listed})))
}
