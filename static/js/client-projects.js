// Project choices that follow the chosen client: a <select data-projects-of="id_client"> whose
// options carry data-client (crm.forms.ClientProjectSelect) shows only the options of the client
// selected in that field, and clears a choice that belongs to another client. The server checks
// the pair again (crm.forms.limit_projects_to_client).
(function () {
  "use strict";
  document.querySelectorAll("select[data-projects-of]").forEach(function (projects) {
    const client = document.getElementById(projects.dataset.projectsOf);
    if (!client) return;
    function follow() {
      const chosen = client.value;
      projects.querySelectorAll("option[data-client]").forEach(function (option) {
        const other = chosen !== "" && option.dataset.client !== chosen;
        option.hidden = other;
        option.disabled = other;
        if (other && option.selected) projects.value = "";
      });
    }
    client.addEventListener("change", follow);
    follow();
  });
})();
