package store

import (
	"context"
	"errors"
	"time"
)

// Case is an explained recording an admin saved: a title and the findings as JSON, secrets
// already redacted by whoever saves it.
type Case struct {
	ID        int64
	Title     string
	CreatedAt time.Time
	Findings  []byte // JSON; left empty by Cases
}

const (
	addCaseSQL = `INSERT INTO cases (title, created_at, findings) VALUES ($1, $2, $3) RETURNING id`
	casesSQL   = `SELECT id, title, created_at FROM cases ORDER BY id DESC LIMIT $1`
	caseSQL    = `SELECT id, title, created_at, findings FROM cases WHERE id = $1`
	// MaxCaseTitle and MaxCaseFindings bound what one case may hold.
	MaxCaseTitle    = 200
	MaxCaseFindings = 4 << 20
)

func (a portable) AddCase(ctx context.Context, c Case) (int64, error) {
	if c.Title == "" || len(c.Title) > MaxCaseTitle || c.CreatedAt.IsZero() || len(c.Findings) == 0 || len(c.Findings) > MaxCaseFindings {
		return 0, errors.New("store: a case needs a title of 1-200 bytes, a creation time and findings of at most 4 MB")
	}
	return a.db.insert(ctx, addCaseSQL, c.Title, c.CreatedAt.UnixMicro(), string(c.Findings))
}

func (a portable) Cases(ctx context.Context, limit int) ([]Case, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rs, done, err := a.db.query(ctx, casesSQL, limit)
	if err != nil {
		return nil, err
	}
	defer done()
	return collect(rs, func(row scanner) (Case, error) {
		var c Case
		var created int64
		err := row.Scan(&c.ID, &c.Title, &created)
		c.CreatedAt = fromMicros(created)
		return c, err
	}, 8)
}

func (a portable) Case(ctx context.Context, id int64) (Case, error) {
	var c Case
	var created int64
	var findings string
	if err := a.db.queryRow(ctx, caseSQL, id).Scan(&c.ID, &c.Title, &created, &findings); err != nil {
		return Case{}, err
	}
	c.CreatedAt, c.Findings = fromMicros(created), []byte(findings)
	return c, nil
}
