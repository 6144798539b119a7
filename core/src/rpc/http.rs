//! HTTP and WebSocket on one loopback port, served by jsonrpsee.
//!
//! Two layers sit in front of jsonrpsee's own parsing:
//! - [`BearerAuth`], an HTTP layer: every request (including the WebSocket
//!   upgrade) must carry `Authorization: Bearer <token>`, else HTTP 401.
//! - [`DispatchService`], an RPC layer that answers every call from the
//!   shared [`Dispatcher`], so methods can be added while the server runs
//!   and an unknown method is reported by name.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use jsonrpsee::core::BoxError;
use jsonrpsee::core::middleware::{
    Batch, BatchEntry, Notification, RpcServiceBuilder, RpcServiceT,
};
use jsonrpsee::server::{
    BatchResponseBuilder, HttpBody, HttpRequest, HttpResponse, MethodResponse, ResponsePayload,
    RpcModule, Server, ServerConfig, ServerHandle,
};
use jsonrpsee::types::ErrorObjectOwned;

use super::{Dispatcher, RpcError};

/// Largest request or response body accepted, in bytes.
const MAX_BODY: u32 = 10 * 1024 * 1024;

/// Tower layer adding [`BearerAuth`].
#[derive(Clone)]
pub struct BearerAuthLayer {
    expected: Arc<Vec<u8>>,
}

impl BearerAuthLayer {
    /// Accept requests bearing `token`.
    pub fn new(token: &str) -> Self {
        BearerAuthLayer {
            expected: Arc::new(format!("Bearer {token}").into_bytes()),
        }
    }
}

impl<S> tower::Layer<S> for BearerAuthLayer {
    type Service = BearerAuth<S>;
    fn layer(&self, inner: S) -> Self::Service {
        BearerAuth {
            inner,
            expected: self.expected.clone(),
        }
    }
}

/// Refuses requests without the right bearer token (HTTP 401).
#[derive(Clone)]
pub struct BearerAuth<S> {
    inner: S,
    expected: Arc<Vec<u8>>,
}

impl<S, B> tower::Service<HttpRequest<B>> for BearerAuth<S>
where
    S: tower::Service<HttpRequest<B>, Response = HttpResponse>,
    S::Error: Into<BoxError> + 'static,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: HttpRequest<B>) -> Self::Future {
        let ok = request
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .is_some_and(|v| crate::secret::constant_time_eq(v.as_bytes(), &self.expected));
        if ok {
            let fut = self.inner.call(request);
            Box::pin(async move { fut.await.map_err(Into::into) })
        } else {
            Box::pin(async {
                let mut resp = HttpResponse::new(HttpBody::from(
                    "missing or wrong token: send 'Authorization: Bearer <contents of <datadir>/rpc.cookie>'\n",
                ));
                *resp.status_mut() = hyper::StatusCode::UNAUTHORIZED;
                resp.headers_mut().insert(
                    hyper::header::WWW_AUTHENTICATE,
                    hyper::header::HeaderValue::from_static("Bearer realm=\"lumend\""),
                );
                Ok(resp)
            })
        }
    }
}

/// The RPC-level service: every call goes to the [`Dispatcher`].
#[derive(Clone)]
pub struct DispatchService {
    dispatcher: Arc<Dispatcher>,
}

fn error_object(e: RpcError) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(e.code, e.message, e.data)
}

impl RpcServiceT for DispatchService {
    type MethodResponse = MethodResponse;
    type NotificationResponse = MethodResponse;
    type BatchResponse = MethodResponse;

    fn call<'a>(
        &self,
        request: jsonrpsee::types::Request<'a>,
    ) -> impl Future<Output = MethodResponse> + Send + 'a {
        let dispatcher = self.dispatcher.clone();
        async move {
            let id = request.id.clone().into_owned();
            let params = request.params.as_ref().map(|p| p.get().to_string());
            match dispatcher.call(&request.method, params.as_deref()).await {
                Ok(v) => {
                    MethodResponse::response(id, ResponsePayload::success(v), MAX_BODY as usize)
                }
                Err(e) => MethodResponse::error(id, error_object(e)),
            }
        }
    }

    fn batch<'a>(&self, batch: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let this = self.clone();
        async move {
            let mut out = BatchResponseBuilder::new_with_limit(MAX_BODY as usize);
            let mut got_notification = false;
            for entry in batch {
                let rp = match entry {
                    Ok(BatchEntry::Call(req)) => this.call(req).await,
                    Ok(BatchEntry::Notification(n)) => {
                        got_notification = true;
                        this.notification(n).await;
                        continue;
                    }
                    Err(err) => {
                        let (err, id) = err.into_parts();
                        MethodResponse::error(id, err)
                    }
                };
                if let Err(too_big) = out.append(rp) {
                    return too_big;
                }
            }
            if out.is_empty() && got_notification {
                MethodResponse::notification()
            } else {
                MethodResponse::from_batch(out.finish())
            }
        }
    }

    fn notification<'a>(
        &self,
        n: Notification<'a>,
    ) -> impl Future<Output = MethodResponse> + Send + 'a {
        // A notification gets no reply, but it still runs.
        let dispatcher = self.dispatcher.clone();
        async move {
            let params = n.params.as_ref().map(|p| p.get().to_string());
            if let Err(e) = dispatcher.call(&n.method, params.as_deref()).await {
                tracing::debug!(method = %n.method, error = %e, "notification call failed");
            }
            MethodResponse::notification()
        }
    }
}

/// Start the HTTP + WebSocket server.
pub async fn serve(
    bind: SocketAddr,
    token: &str,
    dispatcher: Arc<Dispatcher>,
) -> std::io::Result<(SocketAddr, ServerHandle)> {
    let http_middleware = tower::ServiceBuilder::new().layer(BearerAuthLayer::new(token));
    let rpc_middleware = RpcServiceBuilder::new().layer_fn(move |_inner| DispatchService {
        dispatcher: dispatcher.clone(),
    });
    let server = Server::builder()
        .set_config(
            ServerConfig::builder()
                .max_request_body_size(MAX_BODY)
                .max_response_body_size(MAX_BODY)
                .build(),
        )
        .set_http_middleware(http_middleware)
        .set_rpc_middleware(rpc_middleware)
        .build(bind)
        .await?;
    let addr = server.local_addr()?;
    // Every call is answered by the dispatch layer; the module is only the
    // (empty) root jsonrpsee requires.
    let handle = server.start(RpcModule::new(()));
    Ok((addr, handle))
}
