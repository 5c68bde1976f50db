"""What an LMS administrator needs to register the tool."""

from __future__ import annotations


def registration_instructions(base_url: str) -> str:
    base = base_url.rstrip("/")
    return f"""
ltiservice écoute sur {base}

Enregistrer l'outil dans Moodle (4.3 et suivants) ou Canvas, par un lien d'enregistrement :
  1. créez l'organisme, puis un lien (sa dernière ligne est l'URL à coller) :
       .venv/bin/ltiservice organisations add mon-of --name "Mon organisme"
       .venv/bin/ltiservice registrations create --organisation mon-of --expires 7d
  2. Moodle : Administration du site > Plugins > Modules d'activité > Outil externe >
     Gérer les outils, « URL de l'outil » : l'URL du lien, puis « Ajouter LTI Advantage »,
     et activez l'outil.

Enregistrement manuel (toute plateforme LTI 1.3) :
  URL de l'outil / cible du lien     : {base}/lti/launch
  URL de connexion (OIDC login)      : {base}/lti/login
  URL de redirection                 : {base}/lti/launch
  URL du jeu de clés publiques (JWKS): {base}/lti/jwks
  puis : .venv/bin/ltiservice platforms add --help
"""
