//! The widget's words in English, French, Spanish and German. The language is the owner's
//! choice, else the host page's `lang`, else the browser's, else English.

/// Every sentence the widget shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    OpenChat,
    CloseChat,
    Greeting,
    Placeholder,
    Send,
    TalkToHuman,
    NewConversation,
    PastConversations,
    Back,
    Searching,
    Writing,
    Waiting,
    Joined,
    Resolved,
    Typing,
    Offline,
    OriginNotAllowed,
    RateLimited,
    TooLarge,
    IdentityRequired,
    InvalidIdentity,
    UnknownSite,
    Unavailable,
    Error,
    Sources,
    Helpful,
    NotHelpful,
    You,
    Assistant,
    Agent,
    Sending,
    NoConversations,
    NewMessage,
}

/// A supported language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
    Es,
    De,
}

impl Lang {
    /// The first supported language among the candidates (`fr-CA` counts as `fr`).
    pub fn pick<'a>(candidates: impl IntoIterator<Item = &'a str>) -> Lang {
        for tag in candidates {
            let primary = tag.get(..2).unwrap_or("").to_ascii_lowercase();
            let subtag_ends = matches!(tag.as_bytes().get(2), None | Some(b'-' | b'_'));
            if !subtag_ends {
                continue;
            }
            match primary.as_str() {
                "en" => return Lang::En,
                "fr" => return Lang::Fr,
                "es" => return Lang::Es,
                "de" => return Lang::De,
                _ => {}
            }
        }
        Lang::En
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
            Lang::Es => "es",
            Lang::De => "de",
        }
    }

    pub fn t(self, text: Text) -> &'static str {
        let [en, fr, es, de] = words(text);
        match self {
            Lang::En => en,
            Lang::Fr => fr,
            Lang::Es => es,
            Lang::De => de,
        }
    }
}

fn words(text: Text) -> [&'static str; 4] {
    use Text::*;
    match text {
        OpenChat => ["Open chat", "Ouvrir le chat", "Abrir el chat", "Chat öffnen"],
        CloseChat => ["Close chat", "Fermer le chat", "Cerrar el chat", "Chat schließen"],
        Greeting => [
            "Hi! Ask us anything.",
            "Bonjour ! Posez-nous vos questions.",
            "¡Hola! Pregúntanos lo que quieras.",
            "Hallo! Fragen Sie uns alles.",
        ],
        Placeholder => [
            "Write a message…",
            "Écrivez un message…",
            "Escribe un mensaje…",
            "Nachricht schreiben…",
        ],
        Send => ["Send", "Envoyer", "Enviar", "Senden"],
        TalkToHuman => [
            "Talk to a human",
            "Parler à une personne",
            "Hablar con una persona",
            "Mit einem Menschen sprechen",
        ],
        NewConversation => [
            "New conversation",
            "Nouvelle conversation",
            "Nueva conversación",
            "Neues Gespräch",
        ],
        PastConversations => [
            "Past conversations",
            "Conversations précédentes",
            "Conversaciones anteriores",
            "Frühere Gespräche",
        ],
        Back => ["Back to the chat", "Retour au chat", "Volver al chat", "Zurück zum Chat"],
        Searching => [
            "Searching the help center…",
            "Recherche dans l’aide…",
            "Buscando en la ayuda…",
            "Durchsuche die Hilfe…",
        ],
        Writing => ["Writing…", "Rédaction…", "Escribiendo…", "Schreibt…"],
        Waiting => [
            "Waiting for a person to join…",
            "En attente d’une personne…",
            "Esperando a una persona…",
            "Warten auf einen Menschen…",
        ],
        Joined => [
            "joined the conversation",
            "a rejoint la conversation",
            "se unió a la conversación",
            "ist dem Gespräch beigetreten",
        ],
        Resolved => [
            "This conversation is resolved. Write again any time.",
            "Cette conversation est résolue. Écrivez-nous quand vous voulez.",
            "Esta conversación está resuelta. Escríbenos cuando quieras.",
            "Dieses Gespräch ist erledigt. Schreiben Sie jederzeit wieder.",
        ],
        Typing => ["is typing…", "écrit…", "está escribiendo…", "schreibt…"],
        Offline => [
            "You are offline. Reconnecting… Your messages will be sent when you are back.",
            "Vous êtes hors ligne. Reconnexion… Vos messages partiront à votre retour.",
            "Sin conexión. Reconectando… Tus mensajes se enviarán al volver.",
            "Sie sind offline. Verbinde neu… Ihre Nachrichten werden danach gesendet.",
        ],
        OriginNotAllowed => [
            "This chat is not enabled on this website yet. Please contact the site owner.",
            "Ce chat n’est pas encore activé sur ce site. Contactez son propriétaire.",
            "Este chat aún no está activado en este sitio. Contacta con su propietario.",
            "Dieser Chat ist auf dieser Website noch nicht aktiviert. Bitte wenden Sie sich an den Betreiber.",
        ],
        RateLimited => [
            "You are sending messages too quickly. Please wait a moment.",
            "Vous envoyez des messages trop vite. Patientez un instant.",
            "Estás enviando mensajes demasiado rápido. Espera un momento.",
            "Sie senden zu schnell. Bitte warten Sie einen Moment.",
        ],
        TooLarge => [
            "That message is too long. Please shorten it.",
            "Ce message est trop long. Raccourcissez-le.",
            "El mensaje es demasiado largo. Acórtalo.",
            "Die Nachricht ist zu lang. Bitte kürzen Sie sie.",
        ],
        IdentityRequired => [
            "Please sign in to chat with us.",
            "Connectez-vous pour discuter avec nous.",
            "Inicia sesión para chatear con nosotros.",
            "Bitte melden Sie sich an, um mit uns zu chatten.",
        ],
        InvalidIdentity => [
            "We could not confirm who you are. Please sign in again.",
            "Nous n’avons pas pu confirmer votre identité. Reconnectez-vous.",
            "No pudimos confirmar tu identidad. Vuelve a iniciar sesión.",
            "Wir konnten Sie nicht bestätigen. Bitte melden Sie sich erneut an.",
        ],
        UnknownSite => [
            "This chat is not set up correctly. Please contact the site owner.",
            "Ce chat est mal configuré. Contactez le propriétaire du site.",
            "Este chat no está bien configurado. Contacta con el propietario.",
            "Dieser Chat ist falsch eingerichtet. Bitte wenden Sie sich an den Betreiber.",
        ],
        Unavailable => [
            "The chat is busy right now. Please try again shortly.",
            "Le chat est occupé. Réessayez bientôt.",
            "El chat está ocupado. Inténtalo en breve.",
            "Der Chat ist gerade ausgelastet. Bitte gleich erneut versuchen.",
        ],
        Error => [
            "Something went wrong. Please try again.",
            "Une erreur est survenue. Réessayez.",
            "Algo salió mal. Inténtalo de nuevo.",
            "Etwas ist schiefgelaufen. Bitte erneut versuchen.",
        ],
        Sources => ["Sources", "Sources", "Fuentes", "Quellen"],
        Helpful => ["Helpful", "Utile", "Útil", "Hilfreich"],
        NotHelpful => ["Not helpful", "Pas utile", "No útil", "Nicht hilfreich"],
        You => ["You", "Vous", "Tú", "Sie"],
        Assistant => ["Assistant", "Assistant", "Asistente", "Assistent"],
        Agent => ["Agent", "Conseiller", "Agente", "Mitarbeiter"],
        Sending => ["Sending…", "Envoi…", "Enviando…", "Wird gesendet…"],
        NoConversations => [
            "No other conversations yet.",
            "Aucune autre conversation.",
            "Aún no hay otras conversaciones.",
            "Noch keine anderen Gespräche.",
        ],
        NewMessage => ["New message", "Nouveau message", "Nuevo mensaje", "Neue Nachricht"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_picked_by_primary_subtag_with_english_fallback() {
        assert_eq!(Lang::pick(["fr-CA"]), Lang::Fr);
        assert_eq!(Lang::pick(["", "pt-BR", "de"]), Lang::De);
        assert_eq!(Lang::pick(["ES"]), Lang::Es);
        assert_eq!(Lang::pick(["zh"]), Lang::En);
    }

    #[test]
    fn every_text_is_translated() {
        for lang in [Lang::Fr, Lang::Es, Lang::De] {
            assert!(!lang.t(Text::Greeting).is_empty());
            assert_ne!(lang.t(Text::Offline), Lang::En.t(Text::Offline));
        }
    }
}
