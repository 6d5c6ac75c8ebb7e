-- wrk script: POST /v1/tokens with HTTP Basic client authentication.
-- TITAN_BASIC holds base64("client_id:secret"); TITAN_BODY optionally replaces the JSON body.
wrk.method = "POST"
wrk.body = os.getenv("TITAN_BODY") or '{"audience":"billing"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Basic " .. os.getenv("TITAN_BASIC")
