<?php

// The harness app's connections (DB_CONNECTION, DB_DATABASE, DB_PREFIX).
return require __DIR__ . '/../../../config/database.php';
