package api

import (
	"net/http"

	"github.com/switchboard/switchboard/crm"
	"github.com/switchboard/switchboard/inbox"
)

// UserList is the team.
type UserList struct {
	Users []crm.User `json:"users"`
}

func (h *api) listUsers(w http.ResponseWriter, r *http.Request) {
	us, err := h.app.Users(r.Context())
	respond(h, w, r, UserList{Users: us}, err)
}

// UserRequest creates a user.
type UserRequest struct {
	Email    string   `json:"email"`
	Name     string   `json:"name"`
	Role     crm.Role `json:"role"`
	Password string   `json:"password"`
}

func (h *api) createUser(w http.ResponseWriter, r *http.Request) {
	var req UserRequest
	err := decode(r, &req)
	var u crm.User
	if err == nil {
		actor := userOf(r).ID
		u, err = h.app.CreateUser(r.Context(), &actor, req.Email, req.Name, req.Role, req.Password)
	}
	respond(h, w, r, u, err)
}

func (h *api) updateUser(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var p inbox.UserPatch
	if err == nil {
		err = decode(r, &p)
	}
	var out crm.User
	if err == nil {
		out, err = h.app.UpdateUser(r.Context(), userOf(r).User, id, p)
	}
	respond(h, w, r, out, err)
}

// PasswordReset is a generated password, shown once to the owner.
type PasswordReset struct {
	Password string `json:"password"`
}

// resetPassword gives a user a generated password (the owner passes it on;
// the user chooses their own at the next login).
func (h *api) resetPassword(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var out PasswordReset
	if err == nil {
		out.Password, err = h.app.ResetPassword(r.Context(), userOf(r).User, id)
	}
	respond(h, w, r, out, err)
}
