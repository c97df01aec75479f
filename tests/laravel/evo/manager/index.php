<?php

// manager/index.php: the manager answers 404 without Accept-Language, then
// dispatches its routes (and the packages' mgr routes) under /manager/.
define('IN_MANAGER_MODE', true);

if (!isset($_SERVER['HTTP_ACCEPT_LANGUAGE'])) {
    header('HTTP/1.0 404 Not Found');
    exit;
}

require __DIR__ . '/../core/bootstrap.php';

(new EvolutionCMS\Core())->handleManagerRoute();
