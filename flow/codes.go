package flow

// Code is the stable, machine-readable name of an Error, e.g.
// "invalid_client". Scripts read it (the --json outputs print it), so a
// code's string never changes once released. Every code the project
// produces is declared once below, grouped by the wizard step where its
// cause is changed; an IdP's own OAuth error code that no constant names
// is passed through as Code(theirs).
type Code string

// Step is the wizard step where the cause of an error is changed: the step
// a person goes back to in order to fix it. flow knows nothing of the
// wizard's screens; package steps maps each of these to its own step.
type Step string

// The wizard's steps, in the guide's order, and the two places outside the
// wizard where a fix can lie.
const (
	StepOrganization Step = "organization"
	StepRedirectURI  Step = "redirect_uri"
	StepCredentials  Step = "credentials" // the client ID and secret, and the Discovery Endpoint
	StepValidate     Step = "validate"
	StepClaims       Step = "claims"
	StepRoles        Step = "roles"
	StepTestLogin    Step = "test_login" // nothing to change: run the login again
	StepReview       Step = "review"
	// StepIdP: the fix lies in the IdP's settings alone, made by its admin.
	StepIdP Step = "idp"
	// StepOutside: the fix lies outside the connection's settings: this
	// machine (network, clock, ports), the database and its key, the
	// command line or the server's options.
	StepOutside Step = "outside"
)

// Codes whose cause is the connection's organization, its name, or a draft
// or invite of the organization.
const (
	CodeBadDraft      Code = "bad_draft"
	CodeBadTTL        Code = "bad_ttl"
	CodeDuplicateName Code = "duplicate_name"
	CodeForbidden     Code = "forbidden"
	CodeNotFound      Code = "not_found"
	// CodeNameControlCharacter: a typed name holds a control or bidi character.
	CodeNameControlCharacter Code = "name_control_character"
)

// Codes whose cause is the Redirect URI, or the port the callback listens
// on.
const (
	CodeBadRedirectURI        Code = "bad_redirect_uri"
	CodeListenFailed          Code = "listen_failed"
	CodePortBusy              Code = "port_busy"
	CodePortDenied            Code = "port_denied"
	CodeRedirectHTTPSLoopback Code = "redirect_https_loopback"
	CodeRedirectNotLoopback   Code = "redirect_not_loopback"
	CodeRedirectURIMismatch   Code = "redirect_uri_mismatch"
	CodeRedirectURIServer     Code = "redirect_uri_server"
	CodeAADSTS50011           Code = "aadsts_50011" // Entra: the redirect URI is not registered
)

// Codes whose cause is the claim mapping.
const (
	// CodeProfileFails: the mapped profile has no idp_id or no email
	// address, and activating it was not overridden.
	CodeProfileFails Code = "profile_fails"
)

// Codes whose cause is the client ID, the client secret or the Discovery
// Endpoint (and so which IdP and tenant the connection talks to).
const (
	CodeAZPMismatch            Code = "azp_mismatch"
	CodeBadMetadata            Code = "bad_metadata"
	CodeBadMetadataURL         Code = "bad_metadata_url"
	CodeBadSignature           Code = "bad_signature"
	CodeBadURL                 Code = "bad_url"
	CodeBadURLScheme           Code = "bad_url_scheme"
	CodeCallbackIssuerMismatch Code = "callback_issuer_mismatch"
	CodeEmptyURL               Code = "empty_url"
	CodeHTMLPage               Code = "html_page"
	CodeHTTPStatus             Code = "http_status"
	CodeIncompleteConnection   Code = "incomplete_connection"
	CodeInsecureURL            Code = "insecure_url"
	CodeInvalidClient          Code = "invalid_client"
	CodeIssuerMismatch         Code = "issuer_mismatch"
	CodeMissingField           Code = "missing_field"
	CodeNoClientID             Code = "no_client_id"
	CodeNoClientSecret         Code = "no_client_secret"
	CodeNotJSON                Code = "not_json"
	CodeWrongAudience          Code = "wrong_audience"
	CodeWrongIssuer            Code = "wrong_issuer"
	CodeAADSTS7000215          Code = "aadsts_7000215"   // Entra: the secret's ID was pasted, not its value
	CodeAADSTS7000222          Code = "aadsts_7000222"   // Entra: the client secret expired
	CodeAADSTS700016           Code = "aadsts_700016"    // Entra: no app with this client ID in the tenant
	CodeURLHasUserinfo         Code = "url_has_userinfo" // a user name or password in the Discovery Endpoint
)

// Codes fixed by running the test login again (and finishing it).
const (
	CodeCallbackTimeout     Code = "callback_timeout"
	CodeConsentRequired     Code = "consent_required"
	CodeInteractionRequired Code = "interaction_required"
	CodeInvalidGrant        Code = "invalid_grant"
	CodeLoginCancelled      Code = "login_cancelled"
	CodeLoginRequired       Code = "login_required"
	CodeNoTestLogin         Code = "no_test_login"
	CodeNonceMismatch       Code = "nonce_mismatch"
	CodePasteNoState        Code = "paste_no_state"
	CodePasteNotURL         Code = "paste_not_url"
	CodePasteOtherAddress   Code = "paste_other_address"
	CodePasteUnknownState   Code = "paste_unknown_state"
)

// Codes whose fix lies in the IdP's settings of the app.
const (
	CodeAccessDenied           Code = "access_denied"
	CodeAlgNone                Code = "alg_none"
	CodeAlgNotAdvertised       Code = "alg_not_advertised"
	CodeATHashMismatch         Code = "at_hash_mismatch"
	CodeAuthMethodUnsupported  Code = "auth_method_unsupported"
	CodeExpMissing             Code = "exp_missing"
	CodeIatMissing             Code = "iat_missing"
	CodeIDTokenInvalid         Code = "id_token_invalid"
	CodeIdPError               Code = "idp_error"
	CodeInvalidRequest         Code = "invalid_request"
	CodeInvalidScope           Code = "invalid_scope"
	CodeMalformedIDToken       Code = "malformed_id_token"
	CodeNoCode                 Code = "no_code"
	CodeNoIDToken              Code = "no_id_token"
	CodeRedirectSchemeChange   Code = "redirect_scheme_change"
	CodeResponseTooLarge       Code = "response_too_large"
	CodeServerError            Code = "server_error"
	CodeSubMissing             Code = "sub_missing"
	CodeTemporarilyUnavailable Code = "temporarily_unavailable"
	CodeTokenHTTPStatus        Code = "token_http_status"
	CodeTooManyRedirects       Code = "too_many_redirects"
	CodeUnauthorizedClient     Code = "unauthorized_client"
	CodeUnsupportedGrantType   Code = "unsupported_grant_type"
	CodeUserinfoNotJSON        Code = "userinfo_not_json"
	CodeUserinfoStatus         Code = "userinfo_status"
	CodeUserinfoSubMismatch    Code = "userinfo_sub_mismatch"
	CodeAADSTS50105            Code = "aadsts_50105" // Entra: the user is not assigned to the app
)

// Codes whose fix lies outside the connection's settings.
const (
	CodeAddressBlocked      Code = "address_blocked"
	CodeAuthorizedKeys      Code = "authorized_keys"
	CodeBadKey              Code = "bad_key"
	CodeBadPublicURL        Code = "bad_public_url"
	CodeBadStatus           Code = "bad_status"
	CodeDBBusy              Code = "db_busy"
	CodeDBConnectionLost    Code = "db_connection_lost"
	CodeDBCannotOpen        Code = "db_cannot_open"
	CodeDBCorrupt           Code = "db_corrupt"
	CodeDBFull              Code = "db_full"
	CodeDBIO                Code = "db_io"
	CodeDBIsFolder          Code = "db_is_folder"
	CodeDBNewer             Code = "db_newer"
	CodeDBPath              Code = "db_path"
	CodeDBReadOnly          Code = "db_read_only"
	CodeDBUnreachable       Code = "db_unreachable"
	CodeDemoIdPListen       Code = "demo_idp_listen"
	CodeDemoIdPOptions      Code = "demo_idp_options"
	CodeHostKey             Code = "host_key"
	CodeIatFuture           Code = "iat_future"
	CodeImportField         Code = "import_field"
	CodeImportJSON          Code = "import_json"
	CodeInputEnded          Code = "input_ended"
	CodeInviteExpired       Code = "invite_expired"
	CodeInviteRevoked       Code = "invite.revoke" // NOTE: a dot, unlike the others; scripts may match it as it is
	CodeInviteUnknown       Code = "invite_unknown"
	CodeInviteUsed          Code = "invite_used"
	CodeJWKSUnreachable     Code = "jwks_unreachable"
	CodeKeyDamaged          Code = "key_damaged"
	CodeKeyMissing          Code = "key_missing"
	CodeKeyRequired         Code = "key_required"
	CodeKeyUnreadable       Code = "key_unreadable"
	CodeKeyWrite            Code = "key_write"
	CodeNBFFuture           Code = "nbf_future"
	CodeNoMetadata          Code = "no_metadata"
	CodeReadInput           Code = "read_input"
	CodeSealedDamaged       Code = "sealed_damaged"
	CodeSealedUnknown       Code = "sealed_unknown"
	CodeTimeout             Code = "timeout"
	CodeTokenExpired        Code = "token_expired"
	CodeTokenUnreachable    Code = "token_unreachable"
	CodeUnknownConnection   Code = "unknown_connection"
	CodeUnreachable         Code = "unreachable"
	CodeUnexplained         Code = "unexplained" // an error no code names (printed by the --json failure output)
	CodeUserinfoUnreachable Code = "userinfo_unreachable"
	CodeWrongKey            Code = "wrong_key"
)

// Step is the wizard step where the cause of an error with this code is
// changed, or "" for a code this table does not know (an IdP's own error
// code, passed through).
func (c Code) Step() Step {
	switch c {
	case CodeBadDraft, CodeBadTTL, CodeDuplicateName, CodeForbidden, CodeNotFound, CodeNameControlCharacter:
		return StepOrganization
	case CodeBadRedirectURI, CodeListenFailed, CodePortBusy, CodePortDenied, CodeRedirectHTTPSLoopback,
		CodeRedirectNotLoopback, CodeRedirectURIMismatch, CodeRedirectURIServer, CodeAADSTS50011:
		return StepRedirectURI
	case CodeAZPMismatch, CodeBadMetadata, CodeBadMetadataURL, CodeBadSignature, CodeBadURL, CodeBadURLScheme,
		CodeCallbackIssuerMismatch, CodeEmptyURL, CodeHTMLPage, CodeHTTPStatus, CodeIncompleteConnection,
		CodeInsecureURL, CodeInvalidClient, CodeIssuerMismatch, CodeMissingField, CodeNoClientID,
		CodeNoClientSecret, CodeNotJSON, CodeURLHasUserinfo, CodeWrongAudience, CodeWrongIssuer,
		CodeAADSTS7000215, CodeAADSTS7000222, CodeAADSTS700016:
		return StepCredentials
	case CodeProfileFails:
		return StepClaims
	case CodeCallbackTimeout, CodeConsentRequired, CodeInteractionRequired, CodeInvalidGrant, CodeLoginCancelled,
		CodeLoginRequired, CodeNoTestLogin, CodeNonceMismatch, CodePasteNoState, CodePasteNotURL,
		CodePasteOtherAddress, CodePasteUnknownState:
		return StepTestLogin
	case CodeAccessDenied, CodeAlgNone, CodeAlgNotAdvertised, CodeATHashMismatch, CodeAuthMethodUnsupported,
		CodeExpMissing, CodeIatMissing, CodeIDTokenInvalid, CodeIdPError, CodeInvalidRequest, CodeInvalidScope,
		CodeMalformedIDToken, CodeNoCode, CodeNoIDToken, CodeRedirectSchemeChange, CodeResponseTooLarge,
		CodeServerError, CodeSubMissing, CodeTemporarilyUnavailable, CodeTokenHTTPStatus, CodeTooManyRedirects,
		CodeUnauthorizedClient, CodeUnsupportedGrantType, CodeUserinfoNotJSON, CodeUserinfoStatus,
		CodeUserinfoSubMismatch, CodeAADSTS50105:
		return StepIdP
	case CodeAddressBlocked, CodeAuthorizedKeys, CodeBadKey, CodeBadPublicURL, CodeBadStatus, CodeDBBusy,
		CodeDBCannotOpen, CodeDBConnectionLost, CodeDBUnreachable, CodeKeyRequired, CodeDBCorrupt, CodeDBFull, CodeDBIO, CodeDBIsFolder, CodeDBNewer, CodeDBPath,
		CodeDBReadOnly, CodeDemoIdPListen, CodeDemoIdPOptions, CodeHostKey, CodeIatFuture, CodeImportField,
		CodeImportJSON, CodeInputEnded, CodeInviteExpired, CodeInviteRevoked, CodeInviteUnknown, CodeInviteUsed,
		CodeJWKSUnreachable, CodeKeyDamaged, CodeKeyMissing, CodeKeyUnreadable, CodeKeyWrite, CodeNBFFuture,
		CodeNoMetadata, CodeReadInput, CodeSealedDamaged, CodeSealedUnknown, CodeTimeout, CodeTokenExpired,
		CodeTokenUnreachable, CodeUnknownConnection, CodeUnreachable, CodeUnexplained, CodeUserinfoUnreachable, CodeWrongKey:
		return StepOutside
	}
	return ""
}

// EntraCode is the code of the Entra error (AADSTS…) quoted in text, e.g.
// CodeAADSTS700016 for "AADSTS700016: Application … was not found", or ""
// when text quotes none.
func EntraCode(text string) Code {
	if n := AADSTSCode(text); n != "" {
		return Code("aadsts_" + n)
	}
	return ""
}
