<?php

// The site's front controller (index.php at the site root).
define('IN_MANAGER_MODE', false);

require __DIR__ . '/core/bootstrap.php';

(new EvolutionCMS\Core())->processRoutes();
