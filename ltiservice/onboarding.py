"""What an LMS administrator needs to register the tool."""

from __future__ import annotations


def registration_instructions(base_url: str) -> str:
    base = base_url.rstrip("/")
    return f"""
ltiservice écoute sur {base}

Enregistrer l'outil dans Moodle (4.3 et suivants) :
  Administration du site > Plugins > Modules d'activité > Outil externe > Gérer les outils
  « URL de l'outil » : {base}/lti/register   puis « Ajouter LTI Advantage », et activez l'outil.

Enregistrement manuel (toute plateforme LTI 1.3) :
  URL de l'outil / cible du lien     : {base}/lti/launch
  URL de connexion (OIDC login)      : {base}/lti/login
  URL de redirection                 : {base}/lti/launch
  URL du jeu de clés publiques (JWKS): {base}/lti/jwks
  puis : ltiservice platforms add --help
"""
