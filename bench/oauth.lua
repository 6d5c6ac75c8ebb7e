-- wrk script: POST /oauth2/token, client credentials grant with HTTP Basic client authentication.
wrk.method = "POST"
wrk.body = "grant_type=client_credentials&audience=billing"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("TITAN_BASIC")
