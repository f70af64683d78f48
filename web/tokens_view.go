package web

// TokensView is the API tokens page: the tokens, and the forms that create and revoke them.
type TokensView struct {
	Nav    Nav
	Notice string
	Error  string
	// NewToken is the token just created, shown this once: the service keeps only its hash.
	NewToken     string
	NewTokenName string
	Name         string // the name field's text after a refused create
	Tokens       []TokenRow
	MaxName      int
}

// TokenRow is one API token.
type TokenRow struct {
	ID        string
	Name      string
	Created   string
	LastUsed  string // "never" until used
	RevokeURL string
}
