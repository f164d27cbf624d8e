//! `GET /api/instance/list`: an account's instances (optionally filtered by
//! `?instanceName=a,b`), or a TokenInstance's own instance.

use actix_web::{web, HttpRequest, HttpResponse};
use ryzeapi_domain::Instance;
use serde_json::json;

use super::NOT_FOUND;
use crate::auth::{authenticate, percent_decode, Caller};
use crate::error::{ApiError, TOKEN_INSTANCE_MISMATCH};
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
    let repo = state.repo.clone();
    let listed = blocking(move || {
        let instances: Vec<Instance> = match &caller {
            Caller::Instance(own) => {
                if names.iter().any(|n| n != own.name.as_str()) {
                    return Err(ApiError::Forbidden(TOKEN_INSTANCE_MISMATCH));
                }
                vec![own.clone()]
            }
            Caller::Account(account) => {
                let all = repo.instances_of(&account.id).map_err(ApiError::internal)?;
                if names.is_empty() {
                    all
                } else {
                    let picked: Vec<Instance> = all
                        .into_iter()
                        .filter(|i| names.iter().any(|n| n == i.name.as_str()))
                        .collect();
                    if names.len() == 1 && picked.is_empty() {
                        return Err(ApiError::NotFound(NOT_FOUND));
                    }
                    picked
                }
            }
        };
        instances
            .into_iter()
            .map(|i| {
                let chatwoot = repo
                    .integration(&i.id)
                    .map_err(ApiError::internal)?
                    .map(|s| s.integration);
                Ok(views::instance(&i, chatwoot.as_ref()))
            })
            .collect::<Result<Vec<_>, ApiError>>()
    })
    .await?;
    let message = if listed.len() == 1 {
        "1 Instance found".to_owned()
    } else {
        format!("{} Instances found", listed.len())
    };
    Ok(HttpResponse::Ok().json(json!({"success": true, "message": message, "data": listed})))
}
