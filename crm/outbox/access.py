"""Who may watch and re-send deliveries: the administrator role (R114)."""


def is_administrator(user) -> bool:
    from crm.models import Role

    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and (user.is_superuser or getattr(user, "role", "") == Role.ADMIN)
    )


def _register_nav():
    from crm import navigation

    navigation.register("deliveries")(is_administrator)


_register_nav()
